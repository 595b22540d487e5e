// Package e2e holds the end-to-end tests of the purchase saga: they build
// the three services and the dev broker, start them as processes on fresh
// databases, drive them through their REST APIs (and, where a test needs
// it, through the broker), kill and restart them, and check that stock and
// money add up.
package e2e
