//go:build !linux

package sqldb

import "errors"

var errThreadNice = errors.New("thread priorities are supported on Linux only")

// setThreadNice is Linux only: elsewhere the priority applies to the whole
// process, which is not what is wanted.
func setThreadNice(int) error { return errThreadNice }

func threadNice() (int, error) { return 0, errThreadNice }
