"""Generates the Python protobuf and gRPC modules from ../../proto at build time (never committed)."""

from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class ProtoBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        from grpc_tools import protoc

        root = Path(self.root)
        proto_root = (root / "../../proto").resolve()
        out = root / "src"
        protos = sorted(str(p.relative_to(proto_root)) for p in (proto_root / "smartpick").rglob("*.proto"))
        if not protos:
            raise RuntimeError(f"no .proto files under {proto_root}")
        well_known = Path(protoc.__file__).parent / "_proto"
        args = [
            "grpc_tools.protoc",
            f"-I{proto_root}",
            f"-I{well_known}",
            f"--python_out={out}",
            f"--pyi_out={out}",
            f"--grpc_python_out={out}",
            *protos,
        ]
        if protoc.main(args) != 0:
            raise RuntimeError("protoc failed on " + " ".join(protos))
        for package in {out / Path(p).parent for p in protos} | {out / "smartpick"}:
            for directory in [package, *package.parents]:
                if directory == out:
                    break
                (directory / "__init__.py").touch()
