"""Runs ``<function>(input: dict) -> dict`` of a Python package's entry file (run as a script, in the
package's own interpreter: standard library only).

Environment: PODIUM_ENTRY_FILE, PODIUM_FUNCTION, PODIUM_INPUT_FILE, PODIUM_OUTPUT_FILE,
PODIUM_ERROR_FILE. An exception is written to the error file as {"message", "traceback"}.
"""

import importlib.util
import json
import os
import sys
import traceback


def _fail(message: str, trace: str) -> None:
    with open(os.environ["PODIUM_ERROR_FILE"], "w", encoding="utf-8") as handle:
        json.dump({"message": message, "traceback": trace}, handle)
    sys.stderr.write(trace)
    sys.exit(1)


def main() -> None:
    entry = os.path.abspath(os.environ["PODIUM_ENTRY_FILE"])
    function = os.environ["PODIUM_FUNCTION"]
    with open(os.environ["PODIUM_INPUT_FILE"], encoding="utf-8") as handle:
        arguments = json.load(handle)
    sys.path.insert(0, os.path.dirname(entry))
    try:
        spec = importlib.util.spec_from_file_location("__podium_entry__", entry)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        result = getattr(module, function)(arguments)
    except SystemExit:
        raise
    except BaseException as error:
        _fail(f"{type(error).__name__}: {error}", traceback.format_exc())
        return
    if result is None:
        result = {}
    if not isinstance(result, dict):
        _fail(f"{function}() returned {type(result).__name__}, not a dict of output arguments.", "")
    with open(os.environ["PODIUM_OUTPUT_FILE"], "w", encoding="utf-8") as handle:
        json.dump(result, handle, default=str)


if __name__ == "__main__":
    main()
