// Package version answers software version queries to the server
// (XEP-0092). It reveals the name and version, not the operating system.
package version
