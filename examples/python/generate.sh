#!/usr/bin/env bash
# Generates the Python messages and gRPC stubs from proto/ with grpcio-tools'
# protoc. Usage: generate.sh [OUT_DIR]   (default: examples/python/generated)
# PYTHON picks the interpreter that has grpcio-tools (default: python3).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
proto="$here/../../proto"
out=${1:-"$here/generated"}

mkdir -p "$out"
# Only ontap/v1: google/api/field_behavior_pb2 comes from googleapis-common-protos,
# and generating it here would shadow that package's google.api.
rm -rf "$out/ontap"
"${PYTHON:-python3}" -m grpc_tools.protoc -I"$proto" --python_out="$out" --grpc_python_out="$out" \
  "$proto"/ontap/v1/*.proto
echo "generated stubs in $out"
