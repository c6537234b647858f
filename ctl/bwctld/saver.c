// SPDX-License-Identifier: GPL-2.0-only
/* saver.c - whole files written by a thread; contract in saver.h. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "prefault.h"
#include "saver.h"
#include "util.h"

struct save_job {
	struct save_job *next;
	char *path;
	void *data;
	size_t len;
	unsigned int mode;
};

struct saver {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work;   /* a job queued, or stop */
	pthread_cond_t done;   /* a job finished */
	struct save_job *head; /* oldest first; a few jobs at most: appended by a walk */
	size_t queued_bytes;
	size_t max_bytes;
	bool busy; /* the thread is writing a job it took off the queue */
	bool stop;
	unsigned long written, failed;
};

static void job_free(struct save_job *j)
{
	if (!j)
		return;
	free(j->path);
	free(j->data);
	free(j);
}

static int write_one(const char *path, const void *data, size_t len, unsigned int mode)
{
	int err = mkdir_parent(path);

	err = err ?: write_file_atomic(path, data, len, mode);
	if (err)
		log_warnx("cannot save %s: %s", path, strerror(-err));
	return err;
}

static void *saver_main(void *arg)
{
	struct saver *s = arg;
	struct save_job *j;
	int err;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->head && !s->stop)
			pthread_cond_wait(&s->work, &s->lock);
		if (!s->head)
			break; /* stop, and nothing left */
		j = s->head;
		s->head = j->next;
		s->busy = true;
		pthread_mutex_unlock(&s->lock);
		err = write_one(j->path, j->data, j->len, j->mode);
		pthread_mutex_lock(&s->lock);
		s->queued_bytes -= j->len;
		s->written += !err;
		s->failed += err != 0;
		s->busy = false;
		job_free(j);
		pthread_cond_broadcast(&s->done);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int saver_new(struct saver **out, size_t max_bytes)
{
	struct saver *s = calloc(1, sizeof(*s));
	int err;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->max_bytes = max_bytes;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->done, NULL);
	err = -pthread_create(&s->thread, NULL, saver_main, s);
	if (err) {
		pthread_cond_destroy(&s->done);
		pthread_cond_destroy(&s->work);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

int saver_put(struct saver *s, const char *path, const void *data, size_t len, unsigned int mode)
{
	struct save_job *j = calloc(1, sizeof(*j)), **pp, *old = NULL;

	if (j) {
		j->path = strdup(path);
		j->data = malloc(len ? len : 1);
		j->len = len;
		j->mode = mode;
	}
	if (!j || !j->path || !j->data) {
		job_free(j);
		return -ENOMEM;
	}
	bwe_prefault(j->data, len);
	memcpy(j->data, data, len);
	pthread_mutex_lock(&s->lock);
	/* a queued write of the same path is superseded (the thread's current one is not) */
	for (pp = &s->head; *pp; pp = &(*pp)->next) {
		if (!strcmp((*pp)->path, path)) {
			old = *pp;
			*pp = old->next;
			s->queued_bytes -= old->len;
			break;
		}
	}
	/* no room: wait for the thread (one body past max_bytes goes into an empty queue) */
	while ((s->head || s->busy) && s->queued_bytes + len > s->max_bytes)
		pthread_cond_wait(&s->done, &s->lock);
	for (pp = &s->head; *pp; pp = &(*pp)->next)
		;
	*pp = j;
	s->queued_bytes += len;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->lock);
	job_free(old);
	return 0;
}

void saver_flush(struct saver *s)
{
	pthread_mutex_lock(&s->lock);
	while (s->head || s->busy)
		pthread_cond_wait(&s->done, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

void saver_counts(struct saver *s, unsigned long *written, unsigned long *failed)
{
	pthread_mutex_lock(&s->lock);
	if (written)
		*written = s->written;
	if (failed)
		*failed = s->failed;
	pthread_mutex_unlock(&s->lock);
}

void saver_free(struct saver *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true; /* the thread writes what is queued, then ends */
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->done);
	pthread_cond_destroy(&s->work);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
