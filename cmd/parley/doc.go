// Command parley is the Parley messaging server, its administration
// tool and a terminal client.
//
//	parley serve                          run the chat server
//	parley media                          run a standalone media server
//	parley user add|del|passwd|list       manage accounts (with or without a running server)
//	parley config check                   validate a configuration and print it
//	parley version                        print version information
//	parley chat                           chat from the terminal (bubbletea TUI)
//	parley send | listen                  send a message / print events, for scripts
//
// The commands are built by newRootCmd from an app value that holds
// everything they need from the outside world (standard streams, the
// function that runs the server); there is no package-level state, so tests
// build as many command trees as they like. Errors print as
// "parley: <message>" on stderr; the exit status is 1 for a failure and 2 for
// a usage error (unknown command or flag, bad flag value, wrong arguments).
package main
