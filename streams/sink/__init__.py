"""The storage sink: row batches, binary COPY encoding, the batch writer and its error taxonomy."""
