// Package pgtest gives tests a PostgreSQL database of their own: the one
// this machine (and CI) runs, in a fresh schema dropped when the test ends.
// When PostgreSQL is unreachable the test is skipped loudly, or fails under
// CI=true.
package pgtest
