/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EXM_STATS_H
#define EXM_STATS_H

/* Exported into the EXM_STATS namespace with EXPORT_SYMBOL_NS_GPL. */
void exm_stats_add(const char *what, long value);
long exm_stats_total(void);

#endif
