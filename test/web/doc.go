// Package web holds the end-to-end tests of the web client (internal/webui)
// in a real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core from driver.mjs). The Go test starts a real server, plays
// the phone and the other users with the Go client library, and drives the
// browser like a person would.
//
// Run: (cd test/web && npm ci) && go test -run Web -v ./test/web/
// (PARLEY_WEB_LOG=1 prints the page's console; screenshots land in
// test/web/artifacts/TEST/). The tests run one at a time: one Chromium each.
package web
