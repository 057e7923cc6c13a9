// Package h1 is a minimal HTTP/1.1 client for one plain-TCP keep-alive connection, made for the
// executor's hot path: the round trip runs in the calling goroutine (net/http's Transport hands
// every request to a write-loop and a read-loop goroutine), the request is written with one
// write from a reused buffer, the response head is parsed into a reused http.Header, and
// nothing is allocated per request beyond header values that changed since the previous
// response (TestNoAllocationsPerResponse). A step timeout is a deadline on the connection, not a timer or a context. TLS, HTTP/2 and
// proxies are out of scope: the executor keeps net/http for those.
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
// # Held to net/http
//
// Response parsing is checked against net/http's ReadResponse by FuzzResponse (diff_test.go):
// the same bytes, read as one keep-alive connection, must give the same status, header, body,
// framing errors and end of each response. So a check sees the same header on an http:// target
// (this client) as on an https:// one (net/http): Transfer-Encoding is taken out of Header,
// equal duplicate Content-Length fields become one, Content-Length beside chunked and Trailer
// of a chunked response are dropped, and Connection is dropped when it says close.
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
