// SPDX-License-Identifier: GPL-2.0
/* A non-GPL module: it may use plain exports only. */
#include <linux/module.h>
#include <exm/core.h>

static int __init exm_relay_init(void)
{
	pr_info("exm_relay: core v%d\n", exm_core_version());
	return 0;
}

static void __exit exm_relay_exit(void)
{
}

module_init(exm_relay_init);
module_exit(exm_relay_exit);
MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("Example tree: relay driver");
