package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// maxPasswordBytes bounds a password read from standard input.
const maxPasswordBytes = 4096

// readPassword reads a password from a.stdin: prompting without echo (twice
// when confirm is set) when it is a terminal, otherwise the first line.
func readPassword(a *app, user string, confirm bool) (string, error) {
	if f, ok := a.stdin.(*os.File); ok && isTerminal(f) {
		pw, err := prompt(a, int(f.Fd()), fmt.Sprintf("Password for %s: ", user))
		if err != nil || !confirm || pw == "" {
			return pw, err
		}
		again, err := prompt(a, int(f.Fd()), "Repeat the password: ")
		if err != nil {
			return "", err
		}
		if again != pw {
			return "", errors.New("the passwords do not match")
		}
		return pw, nil
	}
	r := bufio.NewReader(io.LimitReader(a.stdin, maxPasswordBytes+2))
	line, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	if err != nil && line == "" {
		return "", errors.New("no password on standard input (--password-stdin reads one line)")
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if len(line) > maxPasswordBytes {
		return "", fmt.Errorf("password longer than %d bytes", maxPasswordBytes)
	}
	return line, nil
}

// prompt asks for a password on the terminal fd without echo.
func prompt(a *app, fd int, text string) (string, error) {
	fmt.Fprint(a.stderr, text)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(a.stderr)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return string(b), nil
}
