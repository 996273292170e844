// Package e2e holds end-to-end tests that drive the real parley binary as a
// separate process: crash safety (kill -9 while messages flow) and the CLI
// as an operator uses it. The tests build the binary once in TestMain.
package e2e
