// SPDX-License-Identifier: GPL-2.0
/* Uses exm_core's plain export and exm_stats' EXM_STATS namespace. */
#include <linux/module.h>
#include <exm/core.h>
#include <exm/stats.h>
#include "led_hw.h"

#ifdef EXM_LED_PWM
#define EXM_LED_LEVEL (EXM_LED_DEFAULT_LEVEL / 2)
#else
#define EXM_LED_LEVEL EXM_LED_DEFAULT_LEVEL
#endif

static int __init exm_led_init(void)
{
	int i;

	for (i = 0; i < EXM_LED_COUNT; i++)
		exm_stats_add("led", EXM_LED_LEVEL);
	pr_info("exm_led: core v%d, total %ld\n", exm_core_version(), exm_stats_total());
	return 0;
}

static void __exit exm_led_exit(void)
{
}

module_init(exm_led_init);
module_exit(exm_led_exit);
MODULE_IMPORT_NS(EXM_STATS);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Example tree: LED driver");
