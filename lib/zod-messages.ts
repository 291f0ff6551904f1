import * as z from 'zod/mini';
import { en } from 'zod/locales';

/**
 * zod/mini, unlike zod, sets no error messages by itself: every issue would read "Invalid input".
 * The engine's schemas (executor configs, the Lambda environment, trigger events) use zod/mini to
 * keep zod's larger classic API out of the bundles that do not serve the API; importing this
 * module sets zod's own English messages, so a failed run or a 400 reads the same whichever API
 * built the schema. zod sets the same ones on first use of its classic API; setting them twice is
 * harmless.
 */
z.config(en());
