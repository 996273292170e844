// Package logbuf holds Buffer, a bytes.Buffer that goroutines may write
// and read at once: what a test hands a logger (slog, a child process's
// stderr) to read back what was logged while the code under test runs.
package logbuf
