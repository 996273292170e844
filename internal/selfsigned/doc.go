// Package selfsigned makes the self-signed TLS certificates Parley uses
// when it is given none: the server's first start (kept in its data
// directory) and the load generator's sink (docs/benchmarks.md).
package selfsigned
