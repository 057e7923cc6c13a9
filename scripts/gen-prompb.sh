#!/usr/bin/env bash
# Regenerates internal/prompb/remote.pb.go from internal/prompb/remote.proto: protoc from the
# Debian package protobuf-compiler, protoc-gen-go at the version of google.golang.org/protobuf in
# go.mod (so the generated code and the runtime agree).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
ver=$(go list -m -f '{{.Version}}' google.golang.org/protobuf)
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
GOBIN="$bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$ver"
PATH="$bin:$PATH" protoc --proto_path=internal/prompb --go_out=internal/prompb \
  --go_opt=paths=source_relative remote.proto
gofmt -l internal/prompb
