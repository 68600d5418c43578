"""CloudWatch metrics: the per-minute store (``series``), what Lambda and event source mappings
publish into it (``lambda_metrics``), and CloudWatch's errors. Sits below every layer that
records metrics; the API lives in ``api/cloudwatch.py``."""
