// Package bench is Parley's load generator (`parley bench`): it drives many
// simulated devices, each a real client connection, against Parley or any
// XMPP server, and measures what users feel and what operators pay:
//
//   - login: a ramp of logins with a bounded number in flight; logins/s and
//     login latency;
//   - idle: memory per idle, available connection (the server's RSS growth
//     divided by the devices, given the server's PID);
//   - throughput: one-to-one messages between pairs of devices, open loop at
//     fixed offered rates stepped up (and closed loop with a window per
//     sender): delivered/s, end-to-end latency percentiles from timestamps
//     carried in the messages, lost, duplicated and reordered counts, and
//     the server's CPU per delivered message;
//   - offline: messages stored for offline devices, then drained when they
//     log in;
//   - groups (Parley only, run when asked for): fan-out of a member's posts
//     to groups of given sizes, all members online and then half offline:
//     deliveries/s, latency percentiles, server CPU per delivery, and the
//     offline half's drain.
//
// Every loop is bounded in count and time, and only loopback targets are
// allowed unless the caller says otherwise. The generator reports when it
// falls behind its own schedule, so that its limits are never mistaken for
// the server's.
package bench
