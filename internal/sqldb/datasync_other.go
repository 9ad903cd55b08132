//go:build !linux

package sqldb

import "os"

// dataSync makes f's data durable (fdatasync where the system has it).
func dataSync(f *os.File) error { return f.Sync() }
