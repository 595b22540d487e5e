// Package e2e tests sagactl's console in a browser against the whole
// stack: the built binaries of the broker, the three services and sagactl
// as processes, on real PostgreSQL, driven through headless Chromium.
package e2e
