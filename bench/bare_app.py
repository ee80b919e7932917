"""A bare Flask hello-world: the yardstick every page latency is divided by."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello"
