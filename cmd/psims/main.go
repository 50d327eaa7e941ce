// Command psims runs the PSIMS service and its operator commands.
//
// Exit codes: 0 success, 1 failure, 2 bad usage. Errors go to stderr as one
// line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError marks a mistake in how the command was called (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// foundError means a check ran and found something (exit code 3), as
// `psims guard check` will when text holds an identifier.
type foundError struct{ msg string }

func (e foundError) Error() string { return e.msg }

// errHelp is returned after printing help; it exits 0.
var errHelp = errors.New("help shown")

func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, errHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "psims:", oneLine(err.Error()))
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	var f foundError
	if errors.As(err, &f) {
		return 3
	}
	return 1
}

func oneLine(s string) string {
	out := []rune{}
	for _, r := range s {
		if r == '\n' || r == '\r' {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}
