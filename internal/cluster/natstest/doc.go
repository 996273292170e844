// Package natstest runs NATS servers inside a test process: a cluster of
// n servers routed to each other on loopback, on free ports, shut down
// when the test ends. Tests never use a NATS server of the machine.
package natstest
