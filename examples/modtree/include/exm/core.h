/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EXM_CORE_H
#define EXM_CORE_H

struct exm_device {
	const char *name;
	int id;
	unsigned long flags;
};

/* Plain export: any module may use it. */
int exm_core_version(void);
/* GPL-only export. */
int exm_register(struct exm_device *dev);
void exm_unregister(struct exm_device *dev);

#endif
