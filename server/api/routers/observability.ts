import { router } from "../trpc";

export const observabilityRouter = router({});
