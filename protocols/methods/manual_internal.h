/*
 * Helpers shared by the manual (operator-guided) methods: series.c,
 * srf.c, wur.c, vdt.c. Not a public interface.
 */
#ifndef QST_PROTOCOLS_METHODS_MANUAL_INTERNAL_H
#define QST_PROTOCOLS_METHODS_MANUAL_INTERNAL_H

#include "qst_methods.h"

/* A fresh row of a manual test: thermal fields NaN, no key, no response. */
void qst_manual_trial_init(struct qst_trial_record *t, int test,
			   int repetition, int direction);

/*
 * Ask through the rig and check the answer fits its kind (an answer out
 * of its range is QST_ERR_DATA, never recorded as data). QST_OK,
 * QST_METHOD_NOT_DONE or a negative qst_err.
 */
int qst_manual_ask(const struct qst_rig_ops *ops, void *rig,
		   const struct qst_question *q, struct qst_answer *a);

/* Close a begun row the operator abandoned: no value, QST_TRIAL_ABORTED.
 * Returns QST_METHOD_NOT_DONE, or the recorder's error. */
int qst_manual_abandon(const struct qst_rig_ops *ops, void *rig,
		       struct qst_trial_record *t);

/* Close a row with its value at the time of the answer. */
int qst_manual_finish(const struct qst_rig_ops *ops, void *rig,
		      struct qst_trial_record *t, double value,
		      const struct qst_answer *a);

#endif
