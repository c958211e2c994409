"""``omnicrm serve``'s HTTP app: MLflow's scoring server for the model, behind a guard that
bounds what one request may cost and never hands internals to the caller.

- a body over ``max_body_bytes`` or a batch over ``max_rows`` rows is refused with 413 before
  the model sees it (one 48 MB body took the plain server to 3.6 GB);
- a body that is not JSON is refused with 400 without echoing it back;
- an error answer keeps its code and the first line of its message, never the server's
  stack trace.

uvicorn runs it with several workers (``scoring.serve.workers``) through
:func:`create_app`, a factory that reads the model URI and the limits from the environment
``omnicrm serve`` sets.
"""

from __future__ import annotations

import json
import os

ENV_MODEL = "OMNICRM_SERVE_MODEL_URI"
ENV_MAX_BODY = "OMNICRM_SERVE_MAX_BODY_BYTES"
ENV_MAX_ROWS = "OMNICRM_SERVE_MAX_ROWS"


def batch_rows(payload) -> int | None:
    """Rows in an MLflow scoring request (dataframe_split / dataframe_records / instances /
    inputs), None when the shape is not one of those (MLflow answers that itself)."""
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("dataframe_split"), dict):
        data = payload["dataframe_split"].get("data")
        return len(data) if isinstance(data, list) else None
    for key in ("dataframe_records", "instances", "inputs"):
        value = payload.get(key)
        if isinstance(value, list):
            return len(value)
        if isinstance(value, dict):  # column -> values
            lengths = [len(v) for v in value.values() if isinstance(v, list)]
            return max(lengths) if lengths else None
    return None


def error_message(message: str, limit: int = 1000) -> str:
    """What the caller needs of an MLflow error: the reason, without the request's data that
    MLflow dumps into it ("Failed to predict data '<the frame>'. Error: <the reason>")."""
    text = message.strip()
    if text.startswith(("Failed to predict data", "Failed to enforce schema of data")) \
            and "Error: " in text:
        text = text.rsplit("Error: ", 1)[1]
    line = " ".join(text.split()) or "request failed"
    return line if len(line) <= limit else line[:limit] + " ..."


def _error(status: int, code: str, message: str):
    from fastapi.responses import JSONResponse

    return JSONResponse({"error_code": code, "message": message}, status_code=status)


def guard(app, max_body_bytes: int, max_rows: int):
    """Add the limits and the error clean-up to a FastAPI scoring app."""
    from fastapi import Request
    from fastapi.responses import Response

    @app.middleware("http")
    async def bounded(request: Request, call_next):
        if request.method == "POST" and request.url.path == "/invocations":
            length = request.headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > max_body_bytes:
                return _error(413, "REQUEST_TOO_LARGE",
                              f"request body of {int(length):,} bytes is over the limit of "
                              f"{max_body_bytes:,} bytes: send smaller batches")
            # read once: Starlette keeps it for the scoring endpoint behind this middleware
            body = await request.body()
            if len(body) > max_body_bytes:  # a chunked body without a length
                return _error(413, "REQUEST_TOO_LARGE", f"request body is over the limit "
                              f"of {max_body_bytes:,} bytes: send smaller batches")
            if "json" in (request.headers.get("content-type") or ""):
                try:
                    payload = json.loads(body)
                except (ValueError, UnicodeDecodeError):
                    return _error(400, "BAD_REQUEST", "the request body is not valid JSON")
                rows = batch_rows(payload)
                if rows is not None and rows > max_rows:
                    return _error(413, "REQUEST_TOO_LARGE", f"{rows:,} rows in one request: "
                                  f"the limit is {max_rows:,}, send smaller batches")
        response = await call_next(request)
        if response.status_code < 400:
            return response
        raw = b"".join([chunk async for chunk in response.body_iterator])
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = {"message": raw.decode("utf-8", "replace")}
        if not isinstance(answer, dict):
            answer = {"message": str(answer)}
        clean = {"error_code": answer.get("error_code", "BAD_REQUEST"),
                 "message": error_message(str(answer.get("message", "")))}
        return Response(json.dumps(clean), status_code=response.status_code,
                        media_type="application/json")

    return app


def create_app():
    """The app uvicorn's workers build (``--factory``): the model at ``$OMNICRM_SERVE_MODEL_URI``
    with the limits of ``$OMNICRM_SERVE_MAX_BODY_BYTES`` and ``$OMNICRM_SERVE_MAX_ROWS``."""
    from mlflow.pyfunc import scoring_server

    model = scoring_server.load_model_with_mlflow_config(os.environ[ENV_MODEL])
    return guard(scoring_server.init(model), int(os.environ[ENV_MAX_BODY]),
                 int(os.environ[ENV_MAX_ROWS]))
