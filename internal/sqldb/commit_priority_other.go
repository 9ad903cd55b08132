//go:build !linux

package sqldb

import "errors"

// setThreadNice is Linux only: elsewhere the priority applies to the whole
// process, which is not what is wanted.
func setThreadNice(int) error { return errors.New("thread priorities are supported on Linux only") }
