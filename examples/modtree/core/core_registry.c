// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include <linux/spinlock.h>
#include <exm/core.h>

static DEFINE_SPINLOCK(exm_lock);
static int exm_count;

int exm_register(struct exm_device *dev)
{
	spin_lock(&exm_lock);
	dev->id = exm_count++;
	spin_unlock(&exm_lock);
	return 0;
}
EXPORT_SYMBOL_GPL(exm_register);

void exm_unregister(struct exm_device *dev)
{
	spin_lock(&exm_lock);
	exm_count--;
	spin_unlock(&exm_lock);
}
EXPORT_SYMBOL_GPL(exm_unregister);
