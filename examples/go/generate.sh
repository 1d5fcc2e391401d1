#!/usr/bin/env bash
# Generates the Go messages and gRPC stubs from proto/ with protoc,
# protoc-gen-go and protoc-gen-go-grpc, then builds the example client, all
# in GOPATH mode from Debian's packages (no module proxy needed):
#   apt-get install golang-go golang-google-grpc-dev golang-google-protobuf-dev \
#     golang-google-genproto-dev golang-github-golang-protobuf-1-5-dev \
#     protoc-gen-go-grpc protobuf-compiler
# Usage: generate.sh [OUT_DIR]   (default: examples/go/gopath)
# Writes OUT_DIR/src/<go_package>/*.pb.go and OUT_DIR/bin/client.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
proto="$here/../../proto"
out=$(mkdir -p "${1:-"$here/gopath"}" && cd "${1:-"$here/gopath"}" && pwd)

# Debian's packages put their Go sources under /usr/share/gocode; the
# generated package goes into OUT_DIR, the second GOPATH entry.
export GO111MODULE=off GOPATH="/usr/share/gocode:$out" GOFLAGS=
# Debian ships protoc-gen-go-grpc as a command but protoc-gen-go only as source.
go build -o "$out/bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
rm -rf "$out/src/github.com/ontap-grpc-gateway"
mkdir -p "$out/src"
PATH="$out/bin:$PATH" protoc -I"$proto" --go_out="$out/src" --go-grpc_out="$out/src" "$proto"/ontap/v1/*.proto
go build -o "$out/bin/client" "$here/client.go"
echo "generated stubs in $out/src and built $out/bin/client"
