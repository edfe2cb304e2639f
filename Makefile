# Pacer: the two commands a new user needs are `make run` and `make test`.
GO       ?= go
BIN      := bin/pacer
# Flags for `make run`; e.g. make run RUN_FLAGS="--http-addr :9090".
RUN_FLAGS ?=
# staticcheck is pinned and fetched by `go run` from the module proxy, so it
# stays out of go.mod's build graph and needs no install step; 0.8.2 (the
# 2026.2 release) understands Go 1.26.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build run test vet bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/pacer

run: build
	./$(BIN) serve --sim-agents 5 --sim-inbound-per-hour 60 --sim-callback-share 0.3 $(RUN_FLAGS)

# go.mod must already be tidy (every direct requirement listed as direct),
# then go vet, then staticcheck.
vet:
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

test: vet
	$(GO) test -race -timeout 30m ./...

# The benchmark suite: figures go to bench/results/*.json and the table in
# README.md. Takes a while (a 1M-row import on the private cluster and
# on a stock-WAL one, a 2M-lead hopper and a 1,000-list one, the
# pacing scenarios at full length, RTP relay up to 1,000 bridged calls,
# SIP calls per second to sipp for 5 minutes, answer to first relayed packet
# over 500 bridged calls).
bench:
	mkdir -p bench/results
	PACER_BENCH_OUT=$(CURDIR)/bench/results $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./campaigns/
	PACER_BENCH_OUT=$(CURDIR)/bench/results $(GO) test -run '^$$' -bench 'BenchmarkSimScenarios|BenchmarkWarmup' -benchtime 1x -timeout 30m ./dialer/sim/
	PACER_BENCH_OUT=$(CURDIR)/bench/results $(GO) test -run '^$$' -bench BenchmarkWSBroadcast1000 -benchtime 1x -timeout 10m ./web/
	PACER_BENCH_OUT=$(CURDIR)/bench/results $(GO) test -run '^$$' -bench 'BenchmarkDBOutage|BenchmarkTakeoverAfterKill|BenchmarkDrain' -benchtime 1x -timeout 20m ./cmd/pacer/
	PACER_BENCH_OUT=$(CURDIR)/bench/results $(GO) test -run '^$$' -bench 'BenchmarkRelay|BenchmarkHoldMusic' -benchtime 1x -timeout 30m ./media/
	PACER_BENCH_OUT=$(CURDIR)/bench/results PACER_SIP_BENCH_SECONDS=300 $(GO) test -run '^$$' -bench BenchmarkSIPCallsPerSecond -benchtime 1x -timeout 30m ./dialer/sip/
	PACER_BENCH_OUT=$(CURDIR)/bench/results $(GO) test -run '^$$' -bench BenchmarkAnswerToFirstPacket -benchtime 1x -timeout 30m ./dialer/sip/
	PACER_BENCH_OUT=$(CURDIR)/bench/results $(GO) test -run '^$$' -bench BenchmarkInboundOffer -benchtime 1x -timeout 20m ./dialer/blend/
	$(GO) run ./bench/report

clean:
	rm -rf bin
