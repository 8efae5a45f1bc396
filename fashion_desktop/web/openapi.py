"""The OpenAPI 3.1 description of the HTTP API, served at ``/api/openapi.json``."""

from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def schema(version: str) -> dict:
    row = {
        "type": "object",
        "description": "The same object as one line of `fashion-classify --json`.",
        "required": ["path", "label", "index", "confidence", "probabilities", "blur", "known"],
        "properties": {
            "path": {"type": ["string", "null"], "description": "the uploaded file's name, if it had one"},
            "label": {"type": "string"},
            "index": {"type": "integer", "minimum": 0, "maximum": 9},
            "confidence": {"type": "number"},
            "probabilities": {"type": "array", "items": {"type": "number"}, "minItems": 10, "maxItems": 10},
            "blur": {
                "type": "object",
                "properties": {
                    "score": {"type": "number"},
                    "threshold": {"type": "number"},
                    "blurry": {"type": "boolean"},
                },
            },
            "known": {"type": "boolean", "description": "false: probably none of the ten categories"},
            "known_score": {"type": "number"},
            "known_threshold": {"type": "number"},
            "top_k": {"type": "array", "items": {"type": "object"}, "description": "with ?top_k=K > 1"},
            "items": {"type": "array", "items": {"type": "object"}, "description": "other items of an outfit"},
            "images": {
                "type": "object",
                "description": "with ?images=1: data URLs of the picture, its Canny overlay and the model input "
                "(28 x 28 gray, or 64 x 64 colour from the photo model)",
                "properties": {k: {"type": "string"} for k in ("picture", "overlay", "model_input")},
            },
        },
    }
    picture = {"type": "string", "format": "binary"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Fashion Lens", "version": version},
        "paths": {
            "/api/classify": {
                "post": {
                    "summary": "Classify one picture",
                    "parameters": [
                        {"name": "top_k", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10}},
                        {"name": "images", "in": "query", "schema": {"type": "boolean"}},
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {"schema": {"type": "object", "properties": {"file": picture}}},
                            "image/*": {"schema": picture},
                            "application/octet-stream": {"schema": picture},
                        },
                    },
                    "responses": {
                        "200": {"description": "the analysis", "content": {"application/json": {"schema": row}}},
                        "400": _error("no picture in the request, or a bad parameter"),
                        "408": _error("the body took too long to arrive"),
                        "413": _error("the body is over the limit"),
                        "415": _error("a Content-Type that is not a picture or a form"),
                        "422": _error("not a picture, damaged, or refused by the decoder's limits"),
                        "503": _error("loading, busy or over the time limit: retry after Retry-After seconds"),
                    },
                }
            },
            "/api/model": {
                "get": {
                    "summary": "Classes, the models' figures (photo_model judges photos), versions, limits",
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/healthz": {
                "get": {
                    "summary": "200 {status: ok} when ready; 503 {status: loading|error} before",
                    "responses": {"200": {"description": "ready"}, "503": _error("not ready")},
                }
            },
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "status"],
                    "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
                }
            }
        },
    }
