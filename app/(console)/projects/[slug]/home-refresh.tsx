"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

/** Re-renders the server page every few seconds while it is visible, so
 * the home page follows the fleet without a reload. */
export function HomeRefresh(props: { seconds: number }) {
  const router = useRouter();
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") router.refresh();
    }, props.seconds * 1000);

    return () => clearInterval(timer);
  }, [router, props.seconds]);

  return null;
}
