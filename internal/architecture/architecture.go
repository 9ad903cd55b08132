// Package architecture holds no code: its test checks that imports point
// inward (cmd → api, job → sqldb → domains), as docs/architecture.md says.
package architecture
