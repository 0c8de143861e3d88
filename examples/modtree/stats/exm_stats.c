// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include <linux/atomic.h>
#include <exm/stats.h>

static atomic_long_t exm_total = ATOMIC_LONG_INIT(0);

void exm_stats_add(const char *what, long value)
{
	atomic_long_add(value, &exm_total);
}
EXPORT_SYMBOL_NS_GPL(exm_stats_add, EXM_STATS);

long exm_stats_total(void)
{
	return atomic_long_read(&exm_total);
}
EXPORT_SYMBOL_NS(exm_stats_total, EXM_STATS);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Example tree: statistics");
