// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * top.c - "bwctl top", once or live; the row fields are in top.h.
 *
 * The live view owns the terminal while it runs: the alternate screen, a
 * hidden cursor, stdin without line buffering or echo (signals still work,
 * so Ctrl-C stops it), and stderr parked in a temporary file so that a
 * message cannot scribble over the screen; everything is put back on every
 * way out (q, Ctrl-C, SIGTERM, an error, exit()), and Ctrl-Z suspends with
 * the terminal restored. Each frame is built in memory and written at once,
 * cursor home first, every line cleared to its end: no flicker.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "bwe_util.h"
#include "addr.h"
#include "log.h"
#include "client.h"
#include "opts.h"
#include "output.h"
#include "top.h"

#define MS_PER_S     1000.0
#define NS_PER_S     1e9
#define HEAD_LINES   3 /* title, keys, blank */
#define TABLE_HEAD   1
#define DEFAULT_ROWS 24 /* when the terminal will not say */
#define DEFAULT_COLS 80
#define TIME_LEN     32
#define STATE_LEN    64 /* "quarantine,throttle" */

#define ESC_ALT_ON     "\033[?1049h"
#define ESC_ALT_OFF    "\033[?1049l"
#define ESC_CURSOR_OFF "\033[?25l"
#define ESC_CURSOR_ON  "\033[?25h"
#define ESC_HOME       "\033[H"
#define ESC_CLEAR_EOL  "\033[K"
#define ESC_CLEAR_EOS  "\033[J"

static const char *const sort_keys[] = { "tx", "rx", "drops", "rate", NULL };

/* ---- rows and rates -------------------------------------------------------- */

/* One host's counters from the previous frame, to derive rates. */
struct sample {
	char host[BWE_PREFIX_STRLEN];
	__u64 tx, rx;
};

struct memo {
	struct sample *v;
	size_t n;
	double t; /* CLOCK_MONOTONIC seconds of the sample */
	bool valid;
};

struct top_view {
	const struct memo *prev; /* NULL: no derived rates (--once) */
	double now;
};

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / NS_PER_S;
}

/* The first of the names that the row has as a number. */
static bool row_u64(struct json_object *row, const char *a, const char *b, __u64 *v)
{
	return out_get_u64(row, a, v) || (b && out_get_u64(row, b, v));
}

static const struct sample *memo_find(const struct memo *m, const char *host)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (!strcmp(m->v[i].host, host))
			return &m->v[i];
	return NULL;
}

/* A rate cell: the daemon's, else derived from the previous counter. */
static void rate_cell(struct json_object *row, const char *rate_key, const char *alt_key,
		      bool have_cnt, __u64 cnt, const __u64 *prev_cnt, const struct top_view *tv,
		      char *buf, size_t len)
{
	__u64 rate;

	if (row_u64(row, rate_key, alt_key, &rate)) {
		out_fmt_bitrate(rate, buf, len);
		return;
	}
	if (have_cnt && prev_cnt && tv && tv->prev && tv->now > tv->prev->t && cnt >= *prev_cnt) {
		rate = (__u64)llround((double)(cnt - *prev_cnt) / (tv->now - tv->prev->t));
		out_fmt_bitrate(rate, buf, len);
		return;
	}
	snprintf(buf, len, "%s", OUT_NONE);
}

/* "state": a string, or an array of strings joined with ','; none is "-". */
static void state_cell(struct json_object *v, char *buf, size_t len)
{
	size_t o = 0, n;

	snprintf(buf, len, "%s", OUT_NONE);
	if (json_object_is_type(v, json_type_string)) {
		out_safe(json_object_get_string(v), buf, len);
		return;
	}
	if (!json_object_is_type(v, json_type_array))
		return;
	n = json_object_array_length(v);
	for (size_t i = 0; i < n && o + 1 < len; i++) {
		char one[STATE_LEN];

		out_scalar(json_object_array_get_idx(v, i), one, sizeof(one));
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "," : "", one);
	}
}

enum top_col { TC_HOST, TC_TX, TC_TXR, TC_RX, TC_RXR, TC_DROPS, TC_STATE, TC_MAX };

static void render_top(FILE *f, struct json_object *result, const void *ctx)
{
	static const struct out_col cols[TC_MAX] = {
		[TC_HOST] = { "HOST", false },	 [TC_TX] = { "TX", true },
		[TC_TXR] = { "TX/s", true },	 [TC_RX] = { "RX", true },
		[TC_RXR] = { "RX/s", true },	 [TC_DROPS] = { "DROPS", true },
		[TC_STATE] = { "STATE", false },
	};
	const struct top_view *tv = ctx;
	struct out_table *t;
	size_t n;

	if (!json_object_is_type(result, json_type_array)) {
		out_generic(f, result, 0);
		return;
	}
	n = json_object_array_length(result);
	if (!n) {
		fputs("no hosts seen yet\n", f);
		return;
	}
	t = out_table_new(cols, TC_MAX);
	for (size_t i = 0; i < n; i++) {
		struct json_object *row = json_object_array_get_idx(result, i);
		char cell[TC_MAX][OUT_NUM_LEN], state[STATE_LEN];
		const char *cells[TC_MAX];
		const char *host = out_get_str(row, "host");
		const struct sample *s = tv && host ? memo_find(tv->prev, host) : NULL;
		bool htx, hrx;
		__u64 tx = 0, rx = 0, drops;

		for (size_t k = 0; k < TC_MAX; k++) {
			strcpy(cell[k], OUT_NONE);
			cells[k] = cell[k];
		}
		cells[TC_HOST] = host ? host : OUT_NONE;
		htx = row_u64(row, "tx_bytes", "tx", &tx);
		hrx = row_u64(row, "rx_bytes", "rx", &rx);
		if (htx)
			out_fmt_bytes(tx, cell[TC_TX], OUT_NUM_LEN);
		if (hrx)
			out_fmt_bytes(rx, cell[TC_RX], OUT_NUM_LEN);
		rate_cell(row, "tx_bps", "tx_rate", htx, tx, s ? &s->tx : NULL, tv, cell[TC_TXR],
			  OUT_NUM_LEN);
		rate_cell(row, "rx_bps", "rx_rate", hrx, rx, s ? &s->rx : NULL, tv, cell[TC_RXR],
			  OUT_NUM_LEN);
		if (row_u64(row, "drop_packets", "drops", &drops))
			snprintf(cell[TC_DROPS], OUT_NUM_LEN, "%llu", (unsigned long long)drops);
		state_cell(out_get(row, "state"), state, sizeof(state));
		cells[TC_STATE] = state;
		out_table_add(t, cells);
	}
	out_table_print(f, t);
	out_table_free(t);
}

/* Remember this frame's counters for the next one's rates. */
static void memo_update(struct memo *m, struct json_object *rows, double now)
{
	size_t n = json_object_is_type(rows, json_type_array) ? json_object_array_length(rows) : 0;

	free(m->v);
	m->v = n ? out_xreallocarray(NULL, n, sizeof(*m->v)) : NULL;
	m->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);
		const char *host = out_get_str(row, "host");
		struct sample *s = &m->v[m->n];

		if (!host || strlen(host) >= sizeof(s->host))
			continue;
		strcpy(s->host, host);
		s->tx = s->rx = 0;
		row_u64(row, "tx_bytes", "tx", &s->tx);
		row_u64(row, "rx_bytes", "rx", &s->rx);
		m->n++;
	}
	m->t = now;
	m->valid = true;
}

/* ---- requests -------------------------------------------------------------- */

struct top_args {
	long n;		  /* 0: the daemon's default */
	const char *sort; /* NULL: the daemon's default */
	bool once;
	double interval; /* seconds */
};

static int top_fetch(struct bwctl *c, long n, const char *sort, struct json_object **result)
{
	struct json_object *req = bwctl_request(c, "top");

	if (n > 0)
		json_object_object_add(req, "n", json_object_new_int64(n));
	if (sort)
		json_object_object_add(req, "sort", json_object_new_string(sort));
	return bwctl_call(c, req, result);
}

/* ---- the terminal ------------------------------------------------------------ */

static struct {
	bool screen; /* alternate screen entered */
	bool tio_saved;
	struct termios tio;
	int stderr_fd; /* the real stderr while it is parked, else -1 */
	FILE *parked;  /* where stderr goes meanwhile */
} term = { .stderr_fd = -1 };

static volatile sig_atomic_t sig_stop, sig_winch, sig_tstp;

static void on_signal(int sig)
{
	switch (sig) {
	case SIGWINCH:
		sig_winch = 1;
		break;
	case SIGTSTP:
		sig_tstp = 1;
		break;
	default:
		sig_stop = 1;
		break;
	}
}

static void signals_set(void (*handler)(int))
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGTSTP };
	struct sigaction sa = { .sa_handler = handler }; /* no SA_RESTART */

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* Put everything back; safe to call twice and from atexit(). */
static void term_restore(void)
{
	if (term.screen) {
		fputs(ESC_CURSOR_ON ESC_ALT_OFF, stdout);
		fflush(stdout);
		term.screen = false;
	}
	if (term.tio_saved) {
		tcsetattr(STDIN_FILENO, TCSANOW, &term.tio);
		term.tio_saved = false;
	}
	if (term.stderr_fd >= 0) {
		char buf[BUFSIZ];
		size_t n;

		fflush(stderr);
		dup2(term.stderr_fd, STDERR_FILENO);
		close(term.stderr_fd);
		term.stderr_fd = -1;
		/* what was said meanwhile, now where it can be read */
		rewind(term.parked);
		while ((n = fread(buf, 1, sizeof(buf), term.parked)) > 0)
			fwrite(buf, 1, n, stderr);
		fclose(term.parked);
		term.parked = NULL;
	}
}

static void term_enter(void)
{
	struct termios raw;

	if (isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &term.tio)) {
		raw = term.tio;
		raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO); /* keep ISIG */
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		if (!tcsetattr(STDIN_FILENO, TCSANOW, &raw))
			term.tio_saved = true;
	}
	fflush(stderr);
	term.parked = tmpfile();
	if (term.parked) {
		term.stderr_fd = dup(STDERR_FILENO);
		if (term.stderr_fd < 0 || dup2(fileno(term.parked), STDERR_FILENO) < 0) {
			if (term.stderr_fd >= 0)
				close(term.stderr_fd);
			term.stderr_fd = -1;
			fclose(term.parked);
			term.parked = NULL;
		}
	}
	fputs(ESC_ALT_ON ESC_CURSOR_OFF, stdout);
	fflush(stdout);
	term.screen = true;
}

static void term_size(int *rows, int *cols)
{
	struct winsize ws;

	*rows = DEFAULT_ROWS;
	*cols = DEFAULT_COLS;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

/* Write one line of at most cols characters (the frame is sanitised text). */
static void put_line(const char *line, size_t len, int cols)
{
	size_t w = 0, i;

	for (i = 0; i < len; i++) {
		if (((unsigned char)line[i] & 0xc0) != 0x80 && w++ == (size_t)cols)
			break;
	}
	fwrite(line, 1, i, stdout);
	fputs(ESC_CLEAR_EOL "\n", stdout);
}

/* Draw a frame: title, keys, then the table (or an empty screen). */
static void draw(const struct top_args *a, const char *sort, struct json_object *rows,
		 const struct top_view *tv)
{
	char *frame = NULL, stamp[TIME_LEN];
	size_t flen = 0;
	FILE *f = open_memstream(&frame, &flen);
	time_t now = time(NULL);
	struct tm tm;
	int nrows, ncols, line = 0;
	const char *p;

	if (!f)
		fatalx("out of memory");
	term_size(&nrows, &ncols);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm));
	fprintf(f, "bwctl top  %s  sort: %s  every %gs  hosts: %zu\n", stamp,
		sort ? sort : "default", a->interval,
		json_object_is_type(rows, json_type_array) ? json_object_array_length(rows) : 0);
	fputs("q quit  s next sort  space refresh now\n\n", f);
	render_top(f, rows, tv);
	fclose(f);

	fputs(ESC_HOME, stdout);
	/* stop one line short of the bottom so the screen never scrolls */
	for (p = frame; *p && line < nrows - 1; line++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		put_line(p, len, ncols);
		p += len + (nl ? 1 : 0);
	}
	fputs(ESC_CLEAR_EOS, stdout);
	fflush(stdout);
	free(frame);
}

/* Rows to ask for: -n, or as many as fit on the screen. */
static long rows_wanted(const struct top_args *a)
{
	int nrows, ncols;

	if (a->n > 0)
		return a->n;
	term_size(&nrows, &ncols);
	return nrows - 1 - HEAD_LINES - TABLE_HEAD > 1 ? nrows - 1 - HEAD_LINES - TABLE_HEAD : 1;
}

static const char *next_sort(const char *cur)
{
	for (size_t i = 0; cur && sort_keys[i]; i++)
		if (!strcmp(cur, sort_keys[i]))
			return sort_keys[i + 1] ? sort_keys[i + 1] : sort_keys[0];
	return sort_keys[0];
}

/* Ctrl-Z: give the terminal back, stop, take it again on SIGCONT. */
static void suspend(void)
{
	term_restore();
	signal(SIGTSTP, SIG_DFL);
	raise(SIGTSTP);
	/* resumed */
	signals_set(on_signal);
	term_enter();
}

static int live(struct bwctl *c, const struct top_args *a)
{
	struct memo memo = { 0 };
	const char *sort = a->sort;
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	nfds_t nfds = isatty(STDIN_FILENO) ? 1 : 0;
	double next = 0;
	int status = BWCTL_EXIT_OK;
	bool fetch = true;

	atexit(term_restore);
	signals_set(on_signal);
	term_enter();
	while (!sig_stop) {
		double now;
		int r, timeout;

		if (sig_tstp) {
			sig_tstp = 0;
			suspend();
			fetch = true;
		}
		if (sig_winch) {
			sig_winch = 0;
			fetch = true;
		}
		if (fetch) {
			struct json_object *rows = NULL;
			struct top_view tv;

			status = top_fetch(c, rows_wanted(a), sort, &rows);
			bwctl_disconnect(c); /* one request per connection */
			if (status)
				break;
			tv = (struct top_view){ memo.valid ? &memo : NULL, mono_now() };
			draw(a, sort, rows, &tv);
			memo_update(&memo, rows, tv.now);
			json_object_put(rows);
			next = tv.now + a->interval;
			fetch = false;
		}
		now = mono_now();
		timeout = next > now ? (int)ceil((next - now) * MS_PER_S) : 0;
		r = poll(&pfd, nfds, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			status = BWCTL_EXIT_FAIL;
			log_warn("top: poll");
			break;
		}
		if (r == 0) {
			fetch = true;
			continue;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			char ch;
			ssize_t got = read(STDIN_FILENO, &ch, 1);

			if (got <= 0) {
				nfds = 0; /* stdin is gone: Ctrl-C still works */
			} else if (ch == 'q' || ch == 'Q') {
				break;
			} else if (ch == 's') {
				sort = next_sort(sort);
				fetch = true;
			} else if (ch == ' ') {
				fetch = true;
			}
		}
	}
	term_restore();
	free(memo.v);
	return status;
}

/* ---- the command ------------------------------------------------------------- */

static int parse_interval(const struct bwctl *c, const char *text, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (!*text || *end || errno || !isfinite(v) || v < TOP_INTERVAL_MIN_S ||
	    v > TOP_INTERVAL_MAX_S || strpbrk(text, "xXpPeEnN+- "))
		return bwctl_usage_error(c,
					 "--interval \"%.32s\" is not a number of seconds from %g to %g",
					 text, TOP_INTERVAL_MIN_S, TOP_INTERVAL_MAX_S);
	*out = v;
	return OPTS_CONTINUE;
}

static int parse_count(const struct bwctl *c, const char *text, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (!*text || *end || errno || v < 1 || v > TOP_N_MAX || !strchr("0123456789", text[0]))
		return bwctl_usage_error(c, "-n \"%.32s\" is not a number of hosts from 1 to %d",
					 text, TOP_N_MAX);
	*out = v;
	return OPTS_CONTINUE;
}

int cmd_top(struct bwctl *c, int argc, char **argv)
{
	struct top_args a = { .interval = TOP_INTERVAL_DEFAULT_S };
	struct json_object *rows;
	struct opts o;
	int st;

	st = opts_parse(c, argc, argv, OPT_COUNT | OPT_SORT | OPT_ONCE | OPT_INTERVAL, &o);
	if (st != OPTS_CONTINUE)
		return st;
	if ((st = opts_npos(c, &o, 0, 0, "")) != OPTS_CONTINUE)
		return st;
	if (opt_set(&o, OPT_COUNT) &&
	    (st = parse_count(c, opt_val(&o, OPT_COUNT), &a.n)) != OPTS_CONTINUE)
		return st;
	if (opt_set(&o, OPT_SORT) &&
	    (st = opt_choice(c, "--sort", opt_val(&o, OPT_SORT), sort_keys)) != OPTS_CONTINUE)
		return st;
	a.sort = opt_val(&o, OPT_SORT);
	if (opt_set(&o, OPT_INTERVAL) &&
	    (st = parse_interval(c, opt_val(&o, OPT_INTERVAL), &a.interval)) != OPTS_CONTINUE)
		return st;
	a.once = opt_set(&o, OPT_ONCE);

	if (!a.once) {
		if (c->json)
			return bwctl_usage_error(
				c, "--json needs --once (the live view is for a terminal)");
		if (!isatty(STDOUT_FILENO))
			return bwctl_usage_error(c, "the live view needs a terminal; use --once");
		return live(c, &a);
	}
	st = top_fetch(c, a.n, a.sort, &rows);
	if (st)
		return st;
	out_result(rows, render_top, NULL);
	json_object_put(rows);
	return BWCTL_EXIT_OK;
}
