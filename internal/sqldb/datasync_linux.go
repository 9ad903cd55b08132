package sqldb

import (
	"os"
	"syscall"
)

// dataSync makes f's data durable with fdatasync, as SQLite syncs its WAL:
// the frames and the file's size, not its times, so that a WAL reused in
// place commits no file-system journal entry for each sync.
func dataSync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
