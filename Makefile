# Pacer: the two commands a new user needs are `make run` and `make test`.
GO       ?= go
BIN      := bin/pacer
# Flags for `make run`; e.g. make run RUN_FLAGS="--http-addr :9090".
RUN_FLAGS ?=

.PHONY: all build run test vet bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/pacer

run: build
	./$(BIN) serve $(RUN_FLAGS)

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -race -timeout 30m ./...

clean:
	rm -rf bin
