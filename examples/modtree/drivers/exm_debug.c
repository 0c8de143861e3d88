// SPDX-License-Identifier: GPL-2.0
/* Switched off in ./config (CONFIG_EXM_DEBUG is not set): no Nx project, not built. */
#include <linux/module.h>
#include <exm/core.h>

static int __init exm_debug_init(void)
{
	pr_info("exm_debug: core v%d\n", exm_core_version());
	return 0;
}
module_init(exm_debug_init);
MODULE_LICENSE("GPL");
