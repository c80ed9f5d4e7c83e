"""The PyTorch LSTM regressor (seed 004) and its training loop; imported only when torch is used."""

import copy
import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from streams.predictor.features import FloatArray


class SohLstm(nn.Module):
    """LSTM(64) -> dropout(0.2) -> LSTM(32) -> linear, read at the last (most recent) step."""

    def __init__(
        self, n_inputs: int, hidden1: int = 64, hidden2: int = 32, dropout: float = 0.2
    ) -> None:
        super().__init__()
        self.lstm1 = nn.LSTM(n_inputs, hidden1, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.lstm2 = nn.LSTM(hidden1, hidden2, batch_first=True)
        self.head = nn.Linear(hidden2, 1)

    def forward(self, x: Tensor) -> Tensor:
        """(batch, window, inputs) -> (batch,) scaled SOH change to the next cycle."""
        out, _ = self.lstm1(x)
        out = self.dropout(out)
        out, _ = self.lstm2(out)
        result: Tensor = self.head(out[:, -1, :]).squeeze(-1)
        return result


@dataclass(frozen=True, slots=True)
class FitSettings:
    """Optimiser and early-stopping settings of one training run."""

    hidden1: int = 64
    hidden2: int = 32
    dropout: float = 0.2
    epochs: int = 120
    patience: int = 15
    batch_size: int = 32
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 7


@dataclass(frozen=True, slots=True)
class FitResult:
    """Best weights (by validation loss) and how training went."""

    state_dict: dict[str, Tensor]
    best_epoch: int
    epochs_run: int
    best_val_loss: float
    seconds: float


def set_threads(threads: int) -> None:
    """Limit torch's intra-op threads (CI has 2 cores)."""
    torch.set_num_threads(max(1, threads))


def fit(
    x_train: FloatArray,
    y_train: FloatArray,
    x_val: FloatArray,
    y_val: FloatArray,
    settings: FitSettings,
) -> FitResult:
    """Train with MSE + Adam, keep the weights of the best validation epoch (early stopping)."""
    started = time.perf_counter()
    torch.manual_seed(settings.seed)
    generator = torch.Generator().manual_seed(settings.seed)
    model = SohLstm(x_train.shape[2], settings.hidden1, settings.hidden2, settings.dropout)
    optimiser = torch.optim.Adam(
        model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    loss_fn = nn.MSELoss()
    xt = torch.as_tensor(x_train, dtype=torch.float32)
    yt = torch.as_tensor(y_train, dtype=torch.float32)
    xv = torch.as_tensor(x_val, dtype=torch.float32)
    yv = torch.as_tensor(y_val, dtype=torch.float32)
    best_state = copy.deepcopy(model.state_dict())
    best_loss = math.inf
    best_epoch = 0
    epoch = 0
    for epoch in range(1, settings.epochs + 1):
        model.train()
        order = torch.randperm(xt.shape[0], generator=generator)
        for start in range(0, xt.shape[0], settings.batch_size):
            batch = order[start : start + settings.batch_size]
            optimiser.zero_grad()
            loss = loss_fn(model(xt[batch]), yt[batch])
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
        model.eval()
        with torch.no_grad():
            val_loss = float(loss_fn(model(xv), yv)) if xv.shape[0] else float(loss)
        if val_loss < best_loss - 1e-6:
            best_loss, best_epoch = val_loss, epoch
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= settings.patience:
            break
    return FitResult(
        state_dict=dict(best_state),
        best_epoch=best_epoch,
        epochs_run=epoch,
        best_val_loss=best_loss,
        seconds=time.perf_counter() - started,
    )


class EnsemblePredictor:
    """One or more trained `SohLstm`s whose scaled outputs are averaged."""

    def __init__(
        self,
        state_dicts: list[dict[str, Tensor]],
        n_inputs: int,
        hidden1: int,
        hidden2: int,
        dropout: float,
    ) -> None:
        self.models: list[SohLstm] = []
        for state in state_dicts:
            model = SohLstm(n_inputs, hidden1, hidden2, dropout)
            model.load_state_dict(state)
            model.eval()
            self.models.append(model)

    def predict(self, x: FloatArray) -> FloatArray:
        """(n, window, inputs) scaled inputs -> (n,) mean scaled output."""
        if x.shape[0] == 0:
            return np.zeros(0, dtype=np.float64)
        xt = torch.as_tensor(x, dtype=torch.float32)
        with torch.no_grad():
            outs = [m(xt).numpy().astype(np.float64) for m in self.models]
        return np.asarray(np.mean(outs, axis=0), dtype=np.float64)
