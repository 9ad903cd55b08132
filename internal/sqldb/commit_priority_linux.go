package sqldb

import "syscall"

// setThreadNice sets the calling thread's nice value: on Linux a "process"
// priority set by thread id applies to that thread alone. Raising priority
// (a negative nice) needs CAP_SYS_NICE or an RLIMIT_NICE that allows it.
func setThreadNice(nice int) error {
	return syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), nice)
}

// threadNice reads the calling thread's nice value (the system call answers
// 20 - nice, to keep its result positive).
func threadNice() (int, error) {
	v, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	return 20 - v, err
}
