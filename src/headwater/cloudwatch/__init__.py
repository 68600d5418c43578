"""CloudWatch metrics: the per-minute store (``series``), what Lambda and event source mappings
publish into it (``lambda_metrics``), GetMetricData's queries and metric math
(``metric_data``, over ``math_syntax`` and ``math_eval``), and CloudWatch's errors. Sits below
every layer that records metrics; the API lives in ``api/cloudwatch.py``."""
