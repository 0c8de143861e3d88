// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include <linux/init.h>
#include <exm/core.h>

int exm_core_version(void)
{
	return 3;
}
EXPORT_SYMBOL(exm_core_version);

static int __init exm_core_init(void)
{
	pr_info("exm_core: version %d\n", exm_core_version());
	return 0;
}

static void __exit exm_core_exit(void)
{
}

module_init(exm_core_init);
module_exit(exm_core_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Example tree: core registry");
