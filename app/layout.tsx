import type { Metadata } from "next";
import type { ReactNode } from "react";
import { ConsoleProviders } from "@/components/trpc";
import "./globals.css";

// Every page reads the signed-in person or the database: nothing is
// prerendered at build time.
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: "Flotilla",
  description: "Operate fleets of AI coding agents",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <ConsoleProviders>{children}</ConsoleProviders>
      </body>
    </html>
  );
}
