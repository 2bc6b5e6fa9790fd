import { router } from "../trpc";

export const orchestrationRouter = router({});
