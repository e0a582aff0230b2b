"""Put on a child process's PYTHONPATH (never the app's own) to run it on the suite's moved clock."""
