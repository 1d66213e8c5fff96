/*
 * store_lock.c — the store's lock: an exclusive flock on FILE.lock, had
 * within a timeout (--lock-timeout).
 *
 * Guarantees: FILE.lock is created when missing and never renamed or
 * removed, so every writer and every compaction serialise on the same
 * inode even when a compaction renames a new FILE into place.  The lock is
 * held for as long as the returned fd is open (a process killed holding it
 * releases it).  A timeout is ETIMEDOUT; any other failure keeps its errno.
 */
#include "store_int.h"
#include "ev.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t alarmed;
static void on_alarm(int sig) { (void)sig; alarmed = 1; }

int store_lock(const char *store, int64_t timeout_us)
{
	char *lp = store_file(store, ".lock");
	int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	free(lp);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (errno != EWOULDBLOCK || timeout_us <= 0) {
		int e = errno == EWOULDBLOCK ? ETIMEDOUT : errno;
		close(fd);
		errno = e;
		return -1;
	}
	/* Block in flock until a timer interrupts it; the timer repeats, so
	 * a signal that lands just before flock is entered is not lost. */
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	struct itimerval it, oldit, zero;
	memset(&zero, 0, sizeof zero);
	it.it_value.tv_sec = timeout_us / 1000000;
	it.it_value.tv_usec = timeout_us % 1000000;
	it.it_interval.tv_sec = 0;
	it.it_interval.tv_usec = 10000;
	alarmed = 0;
	setitimer(ITIMER_REAL, &it, &oldit);
	int rc = -1, e = 0;
	while (!alarmed) {
		if ((rc = flock(fd, LOCK_EX)) == 0)
			break;
		if (errno != EINTR) {
			e = errno;
			break;
		}
	}
	setitimer(ITIMER_REAL, &zero, NULL);
	sigaction(SIGALRM, &old, NULL);
	if (rc == 0)
		return fd;
	close(fd);
	errno = e ? e : ETIMEDOUT;
	return -1;
}

void store_unlock(int lockfd)
{
	if (lockfd >= 0)
		close(lockfd);
}
