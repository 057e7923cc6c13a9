// Package h1 is a minimal HTTP/1.1 client for one keep-alive connection, plain TCP or TLS, made
// for the executor's hot path: the round trip runs in the calling goroutine (net/http's
// Transport hands every request to a write-loop and a read-loop goroutine), the request is
// written with one write from a reused buffer, the response head is parsed into a reused
// http.Header, and nothing is allocated per request beyond header values that changed since the
// previous response (TestNoAllocationsPerResponse). A step timeout is a deadline on the
// connection, not a timer or a context. HTTP/2 and proxies are out of scope: when a server
// chooses h2 through ALPN, Do hands the negotiated connection back (H2Error) for net/http's
// HTTP/2 client.
//
// # TLS
//
// An https request (Request.TLS) runs crypto/tls's client under the same code: the handshake
// right after the dial, bounded by the request's deadline and traced (Trace.TLSStart,
// TLSDone), the session cache of the configuration resuming sessions on later connections as a
// browser does. A failed handshake is a HandshakeError and sends nothing. TLS was brought in
// scope because the record layer costs the same under either client, while net/http's
// per-request machinery does not: over https (loopback Go server, 50 connections, requests per
// CPU-second of the whole loadplan process, paired rounds alternating with the commit before
// and with wrk on the same target) the executor went from 18,984 through net/http to 41,725 on
// this client, 2.31 times (1.95-2.89, five rounds), and to 0.89 times wrk from 0.43 (0.84-1.04);
// two later runs of six rounds gave 2.23 and 2.24 times, 0.86 and 0.92 times wrk. In Go
// benchmarks BenchmarkH1TLSRoundTrip costs 55 B in 2 allocations per request against 3,663 B in
// 49 for BenchmarkNetHTTPTLSRoundTrip (in-process server included; the 2 are crypto/tls's, one
// per record read on each side); their ns/op, one connection in ping-pong, is latency on a
// shared machine and ranked them either way. Every fault test that counts what a server
// received runs over TLS too (TestFaultsOverTLS).
//
// # Lean heads
//
// A caller that reads no header (no check or capture of one, decided when the plan compiles)
// sets Request.Lean: the framing fields (Content-Length, Transfer-Encoding, Connection,
// Trailer) are read into fixed fields, Set-Cookie, Location and Content-Encoding (the jar,
// redirects, decoding a gzip body a check reads) into Header, and every other field is checked
// as in a full head and skipped without a key, a string or a map entry. BenchmarkHeadLean against BenchmarkHeadFull, a typical eight-field
// head, eight paired runs: 0.42 times the time (0.32-1.36), 0 allocations against 1 (a field
// name not among the common ones). FuzzResponse holds the lean reading to the full one on the
// same bytes. In the throughput run on plain http (the bench plan reads no header) the
// executor did 1.09 times the commit before lean heads and one clock reading (0.99-1.14, six
// paired rounds; 1.08 in an earlier five), 0.72 times wrk.
//
// # One clock reading per boundary
//
// The caller's start reading is GetConn (Request.Start); a connection ready for reuse takes it
// for GotConn as well, and the reading that ends the response (Trace.Done) is the caller's end
// of the request and its samples' time: four readings for a reused connection (start, wrote,
// first byte, done) where httpstep and h1 took eleven (three of them time.Now, which reads the
// clock twice).
//
// A reused connection idle for a while is probed before anything is written to it, and replaced
// when the server closed it. A request that fails after it was written is never resent (see
// Do): the server may have received it, and every request on the wire is counted.
//
// # Why it is hand-written
//
// Measured, not assumed. The same keep-alive GET against the same in-process loopback server
// (bench/RESULTS.md, Go benchmarks): BenchmarkH1RoundTrip 23,236 ns and 0 allocations per
// request, BenchmarkNetHTTPRoundTrip 51,479 ns, 3,599 B and 47 allocations; per request of a
// whole VU (executor benchmarks, the server's own allocations included) 20 allocations on this
// client against 71 on net/http. In the throughput run of the bench harness (50 connections,
// requests per CPU-second of the loadplan process) the executor went from 22,153 on net/http to
// 48,242 on this client, 2.2 times (commit 2ba87b5, measured before and after in the same
// minute); bench/RESULTS.md has 50,756 for it today, 0.86 times wrk and 2.01 times hey, a
// net/http client.
//
// # Write inside the wait
//
// Go's runtime tries a read before it parks a goroutine on the netpoller, and after a request
// was written that read finds nothing on half the requests of the 50-connection bench: 2.0
// read system calls per request against wrk's 1.0 (perf stat of bench/plans/throughput.hcl:
// 73,680 reads for 36,924 requests). On a plain connection the request is therefore written
// inside syscall.RawConn.Read's callback (wire.go): the runtime resets the socket's read
// readiness (prepareRead) before the first call, that call writes the request and returns
// false, and the runtime parks on the poller at once; the next call reads. A response can only
// arrive after the write, so after the reset: its edge is kept, never lost (an earlier attempt
// that returned false without writing lost those that arrived between a separate write and
// the reset: 11,949 requests in 5 s instead of about 100,000). Measured: 1.0 read per request
// (43,931 for 43,899). The write and that read are raw system calls: the socket is
// non-blocking, so the runtime's bookkeeping for a call that might block (entersyscall,
// exitsyscall) buys nothing (under the race detector they are syscall.Write and Read, whose
// annotations order a server's writes before the client's reads).
//
// In paired rounds of the throughput case (wrk and loadplan alternating, 5 s each, requests the
// bench server counted per CPU-second of the process, rusage), against the commit before:
// the write inside the wait alone 1.14 times (1.06-1.30, ten rounds), 0.85 times wrk
// (0.80-0.97); the raw system calls on top of it (and of the executor's monotonic-only
// iteration clock, about 70 ns a reading less) 1.15 times again (1.02-1.37, eight rounds),
// 1.05 times wrk (0.91-1.16). All three against the commit before them, twelve rounds on a
// machine at load 24 (hence the ranges): 1.43 times (1.10-2.08), 1.04 times wrk (0.79-1.25)
// where that commit made 0.71 (0.55-0.89); ten earlier rounds gave 1.43 and 1.02. In Go
// benchmarks with the server in the process, BenchmarkH1Parallel50 against
// BenchmarkH1Parallel50WriteFirst: about 20 against 22 µs of CPU per request, 0 allocations.
//
// What the socket does not take at once (a body larger than its buffer) is written through the
// connection, under its write deadline, and the response then read as before. The request's
// deadline is the read deadline RawRead waits under (SetDeadline sets both), and Abort's past
// deadline ends the wait as it ends a Read. TLS connections keep write-then-read: the record
// layer reads and writes the socket itself. A connection wrapper the Client's Dial returns
// (the executor's byte counter) takes this path only if it is a CountingConn, told the bytes
// moved below it.
//
// What an edge consumed before the reset announced is not announced again: a server's close
// of an idle connection (its FIN, within the idle probe's grace) is not seen before the write.
// A server that closed the connection answers the request with a reset, a new edge: the request
// fails at once with EOF or the reset, as before (TestStaleConnectionIsNotResent). Bytes the
// server sent unasked are read with the response and fail it as malformed, as before. Only a
// server that half-closes an idle connection and keeps reading (a lingering close) leaves the
// request waiting: it fails at its deadline instead of at once with EOF, counted once, as the
// server read it (TestHalfCloseWhileIdle). A connection idle for longer than the grace is
// probed before anything is written (Alive), which catches all three.
//
// # Held to net/http
//
// Response parsing is checked against net/http's ReadResponse by FuzzResponse (diff_test.go):
// the same bytes, read as one keep-alive connection, must give the same status, header, body,
// framing errors and end of each response. So a check sees the same header on an HTTP/1.1
// target (this client) as with the fast path off (net/http): Transfer-Encoding is taken out of
// Header, equal duplicate Content-Length fields become one, Content-Length beside chunked and
// Trailer of a chunked response are dropped, and Connection is dropped when it says close.
//
// Where the two differ, RFC 9112 decided, and h1 follows net/http unless net/http is wrong:
//
//   - "Transfer-Encoding: gzip, chunked" is framed as chunked (RFC 9112 6.3: chunked is the final
//     coding) and then refused with an error naming the codings: net/http refuses it at once, and
//     neither decodes transfer codings other than chunked. Before, h1 did not see chunked in the
//     list and read the body until the deadline. A list not ending in chunked, or two
//     Transfer-Encoding fields, is refused at once, as by net/http.
//   - A status line must be HTTP/1.x with a three-digit code (RFC 9112 2.3, 4); net/http also
//     takes "HTTP/2.0 200" and codes such as "+20" and "-00" (read as 20 and 0). A later minor
//     version (HTTP/1.2) is read as 1.1, as by net/http.
//   - Trailer fields are read as header lines (a bare LF ends one, RFC 9112 2.2) up to 4 KiB;
//     net/http refuses trailer fields not followed by CR LF CR LF within its 4 KiB read buffer.
//     Trailer fields are checked, then dropped: checks do not read them.
//   - An HTTP/1.0 response with Transfer-Encoding closes the connection after it (RFC 9112 6.1
//     MUST); net/http ignores the field, as h1 does for framing, but keeps the connection.
//   - Heads are limited to 1 MiB for the interim 1xx heads and the final one together (net/http:
//     10 MiB), a bound on what one VU holds; a longer head is a ProtocolError.
//   - net/http adds "Cache-Control: no-cache" to a response with "Pragma: no-cache" and no
//     Cache-Control; h1 shows the header the server sent.
//
// Everything else is as net/http reads it, including where it is stricter than the RFC's
// "MAY": a chunk line must end in CR LF (RFC 9112 erratum 7633), whitespace before a chunk
// extension's ";" is refused (RFC 9112 7.1.1 allows it, but no server sends it, and one verdict
// for both paths matters more).
//
// Lengths are read as the bytes arrive: a Content-Length or chunk size of a terabyte costs memory
// only for what the server sends.
//
// A Client is owned by one goroutine (a VU); only Abort may be called from another.
package h1
