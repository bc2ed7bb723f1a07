/* The floor under "POST run/ -> job process started" for bench/jobs.sh: how long this
 * machine takes to start a small static program with posix_spawn, GAP_MS after the previous
 * start (cold caches and sleeping cores make starts after a long gap several times slower
 * than back to back). Both servers pay it on top of their own work.
 * Usage: spawn_floor RUNS GAP_MS    prints the median in milliseconds
 * Build: cc -O2 -static -o spawn_floor spawn_floor.c */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static double now(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "child") == 0) {
        /* The child: report when it started through the pipe named by argv[2]. */
        double t = now();
        int fd = atoi(argv[2]);
        return write(fd, &t, sizeof t) == sizeof t ? 0 : 1;
    }
    int runs = argc > 1 ? atoi(argv[1]) : 7, gap_ms = argc > 2 ? atoi(argv[2]) : 1000;
    if (runs < 1 || runs > 1000) runs = 7;
    double *d = calloc((size_t)runs, sizeof *d);
    if (!d) return 1;
    for (int i = 0; i < runs; i++) {
        usleep((useconds_t)gap_ms * 1000);
        int p[2];
        if (pipe(p) != 0) return 1;
        char fd[16];
        snprintf(fd, sizeof fd, "%d", p[1]);
        char *args[] = {argv[0], "child", fd, NULL};
        pid_t pid;
        double t0 = now();
        if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args, environ) != 0) return 1;
        double t = 0;
        if (read(p[0], &t, sizeof t) != sizeof t) return 1;
        waitpid(pid, NULL, 0);
        close(p[0]);
        close(p[1]);
        d[i] = (t - t0) * 1000;
    }
    qsort(d, (size_t)runs, sizeof *d, cmp);
    printf("%.2f\n", d[runs / 2]);
    return 0;
}
