"""Tests of the deployment files: compose, Dockerfile, Prometheus, Alertmanager, k8s, Grafana."""
